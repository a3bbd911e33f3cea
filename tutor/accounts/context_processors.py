from tutor.accounts.services import is_guest
from tutor.classrooms.services import is_instructor


def account(request):
    """Whether the visitor is a guest (the page then offers to keep their work by signing up),
    and whether they teach (the menu then leads to their classrooms)."""
    user = getattr(request, "user", None)
    if user is None:
        return {"is_guest": False, "is_instructor": False}
    return {"is_guest": is_guest(user), "is_instructor": is_instructor(user)}
