"""One gateway per external system; each turns native rows into canonical records."""
