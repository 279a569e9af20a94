"""SMS in both directions: Twilio's signed webhooks, and a Twilio-compatible sending API."""
