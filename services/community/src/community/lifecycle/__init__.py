"""The basic-group sunset: the dissolution notice in month 7, weekly batches into the buffer group in month 8."""
