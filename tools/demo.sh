#!/bin/sh
# `make demo`, part one: how a gate judges the sample adverts of docs/protocol.md §9, and the
# IDs a daily key gives. Part two (tools/demo.py) runs a gate on a virtual board.
set -e
show() { title=$1; shift; printf '\n== %s\n$ bzgate decode %s\n' "$title" "$*"; bzgate decode "$@"; }
show "Android Bluezone phone (ID in the advert)" \
  "02 01 02 0F FF B5 22 13 0C EA 64 72 13 0C 18 5D 86 43 DF 03 03 56 4E"
show "iPhone, Bluezone in the foreground (ID by GATT read)" \
  "02 01 1A 11 07 67 A6 07 AD D1 17 2F A1 C4 4B F5 73 56 4E 00 00"
show "iPhone, Bluezone in the background (Apple overflow area)" \
  "02 01 1A 14 FF 4C 00 01 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
show "Android v1 phone, code aB3xY9" \
  "02 01 02 09 FF B5 22 61 42 33 78 59 39 11 07 89 A8 07 AD D1 17 2F A1 C4 4B F5 73 F4 39 0A E2"
show "iPhone v1 with its name in the scan response" \
  "02 01 1A 11 07 67 A6 07 AD D1 17 2F A1 C4 4B F5 73 F4 39 0A E2" \
  --scan-response "0B 09 34 61 42 78 33 78 42 59 39 32"
show "Someone else's phone (not Bluezone)" "02 01 06 0A FF 4C 00 10 05 01 18 3A 5B 6C"
printf '\n== The first IDs of the spec test key on 2020-09-18\n'
bzgate ids --daily-key 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F \
  --day 2020-09-18 | head -n 6
