# Runs one classifier over one advert N times on MicroPython; bench/classify_cost.py runs this
# under valgrind with N and with 0 and divides the difference by N.
#   micropython bench/classify_loop.py (fast|naive) HEX N
import sys

from bzcore import adv

import naive_classify


def main(which, hex_advert, n):
    classify = adv.classify if which == "fast" else naive_classify.classify
    data = bytes.fromhex(hex_advert)
    result = None
    for _ in range(n):
        result = classify(data)
    print(result)


main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
