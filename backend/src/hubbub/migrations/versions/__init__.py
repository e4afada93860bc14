"""One module per revision, in order: 0000 is the first release's schema."""
