"""The agents' inbox: their tasks and their teams' tasks, the task page with its form."""
