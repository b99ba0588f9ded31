"""Our SpiffWorkflow: the parser, serializer and script engine we configure, and the helpers that
read what a workflow waits for (catches, timers, message correlation) and cache parsed specs.

We extend the library by subclassing and configuration, never by patching it.
"""
