"""Documents into generations on disk: plan, embed, join, write, switch."""
