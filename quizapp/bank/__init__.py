"""The question bank: file schema, loader and database sync."""
