"""Start the web chat: `python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]`."""

import os
import sys

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before anything imports gradio

from qa.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
