"""What syncd shows its operator: the status log, the views of `syncd status`, the HTTP
surface and page (the event names themselves are the leaf module :mod:`syncd.events`)."""
