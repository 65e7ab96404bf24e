"""Conversation on a task (#13.3): comments of the liaisons, the agent and the director, public or internal."""
