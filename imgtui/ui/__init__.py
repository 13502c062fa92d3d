"""The Textual side: widgets, screens and the App. Talks to the engine only through thread workers."""
