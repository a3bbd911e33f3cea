#!/bin/sh
# The page a fresh kube-tutor/web serves: which pod answered.
printf 'Content-Type: text/html\r\n\r\n'
printf '<!DOCTYPE html>\n<html><head><title>%s</title></head>\n' "$(hostname)"
printf '<body><h1>Hello from %s</h1><p>kube-tutor/web (busybox httpd) standing in for nginx.</p></body></html>\n' "$(hostname)"
