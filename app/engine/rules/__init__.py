"""Business rules: DMN decisions (`dmn`) and what they decide, who gets a new task and how urgent a
new ticket is (`assignment`); the strategies that pick an agent live in `app.assignment`.
"""
