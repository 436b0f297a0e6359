"""Mock interviews and key-point feedback on free-text answers."""
