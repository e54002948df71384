"""The web chat: the Gradio app and the HTML it shows."""
