#!/bin/sh
# The walkthrough's index.php: a million square roots, some tens of milliseconds of CPU, then
# "OK!". busybox awk has no sqrt, so an integer loop of about the same cost does the work.
printf 'Content-Type: text/html\r\n\r\n'
exec awk 'BEGIN { x = 1; for (i = 0; i <= 200000; i++) x = (x * 7 + i) % 1000003; printf "OK!" }'
