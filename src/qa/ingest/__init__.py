"""Files into documents: scanning the folder, reading formats, chunking."""
