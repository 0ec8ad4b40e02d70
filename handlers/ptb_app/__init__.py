"""The python-telegram-bot 22 adapter (BOT_FRAMEWORK=ptb): the same behaviour as the aiogram one."""
