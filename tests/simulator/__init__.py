"""Tests of the Telegram Bot API simulator."""
