<?php
// Run by httpd through /usr/local/bin/php-burn (httpd.conf), which does what the real page does.
?>
