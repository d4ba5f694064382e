"""turmoil: the loader of the turmoil news corpus (filled in with the publishing work)."""
