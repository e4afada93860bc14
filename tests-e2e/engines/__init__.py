"""The core scenarios in Chromium, Firefox and WebKit, whatever drives each engine here."""
