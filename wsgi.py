from agency import create_app

app = create_app()
