"""The satisfaction survey: customers follow the signed link from the e-mail, without signing in."""
