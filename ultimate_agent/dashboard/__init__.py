"""The browser dashboard: one public page whose data all comes from the API with the user's token."""
