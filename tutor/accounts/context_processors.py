from tutor.accounts.services import is_guest


def account(request):
    """Whether the visitor is a guest (the page then offers to keep their work by signing up)."""
    return {"is_guest": is_guest(request.user) if hasattr(request, "user") else False}
