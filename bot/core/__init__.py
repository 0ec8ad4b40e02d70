"""The domain of the bot, free of any chat framework, database or clock."""
