"""Administration: users and teams."""
