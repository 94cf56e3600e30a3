"""Scrapy commands of the govcrawl project (COMMANDS_MODULE)."""
