"""The customer portal: open tickets, follow them, answer questions."""
