"""The gate firmware as the host ships it (the package bzprov.firmware): bzprov.build compiles
it for a board. Not deployed itself: the board runs boot.py and main.py from its root."""
