from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tutor.accounts.forms import SignUpForm
from tutor.accounts.services import account_claim, guest_create, is_guest

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next(request, default: str = "lessons"):
    """Where to go after: the form's `next`, if it is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


@require_http_methods(["GET", "POST"])
def signup(request):
    """Sign up; a guest who signs up keeps their sandbox and progress (the same user, renamed)."""
    guest = request.user if is_guest(request.user) else None
    if request.user.is_authenticated and guest is None:
        return redirect("lessons")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username, password = form.cleaned_data["username"], form.cleaned_data["password1"]
        user = account_claim(user=guest, username=username, password=password) if guest else form.save()
        login(request, user, backend=BACKEND)
        return _next(request)
    return render(request, "registration/signup.html", {"form": form, "guest": guest})


@require_POST
def guest(request):
    """Try the tutor without an account: a guest user, logged in at once."""
    if not request.user.is_authenticated:
        login(request, guest_create(), backend=BACKEND)
    return _next(request)
