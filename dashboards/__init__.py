"""The analysts' dashboard (Streamlit): today's list, a case's story, trends, the model, feedback."""
