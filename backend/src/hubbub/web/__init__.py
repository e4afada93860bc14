"""What guards every HTTP request and answer before the routes see it: the host it names, the
size of its body, where a state-changing request comes from, and the security headers."""
