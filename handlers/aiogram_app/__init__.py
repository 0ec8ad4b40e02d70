"""The aiogram 3 adapter (default framework): routers, update source and Messenger."""
