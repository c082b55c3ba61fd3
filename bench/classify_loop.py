# Runs one classifier over one advert N times on MicroPython; bench/classify_cost.py runs this
# under valgrind and takes from it the same run with "none", the loop alone, to leave the
# instructions of N calls.
#   micropython bench/classify_loop.py (fast|naive|none) HEX N
import sys

from bzcore import adv

import naive_classify


def main(which, hex_advert, n):
    data = bytes.fromhex(hex_advert)
    result = None
    if which == "none":
        for _ in range(n):
            result = data
        return
    classify = adv.classify if which == "fast" else naive_classify.classify
    for _ in range(n):
        result = classify(data)
    if result is None:
        raise SystemExit("no answer")


main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
