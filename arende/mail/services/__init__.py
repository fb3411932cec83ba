"""Every write of the mail app: intake (``intake``), notifications and sending (``outbound``),
mailbox configuration and preferences (``settings``)."""
