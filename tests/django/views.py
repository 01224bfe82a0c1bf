"""The URLconf of the Django tests: small views over ``request.session`` and auth."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path


def write(request: HttpRequest) -> HttpResponse:
    """Set session ``key`` (default ``value``) to ``v`` (default ``x``)."""
    request.session[request.GET.get("key", "value")] = request.GET.get("v", "x")
    return HttpResponse("ok")


def read(request: HttpRequest) -> HttpResponse:
    """The whole session as JSON (reads it, writes nothing)."""
    return JsonResponse(dict(request.session.items()))


def untouched(request: HttpRequest) -> HttpResponse:
    """Never looks at the session."""
    return HttpResponse("ok")


def sign_in(request: HttpRequest) -> HttpResponse:
    """``django.contrib.auth.login`` with ``username`` and ``password`` from the query."""
    user = authenticate(request, username=request.GET["username"], password=request.GET["password"])
    if user is None:
        return HttpResponse("no", status=403)
    login(request, user)
    return HttpResponse("ok")


def sign_out(request: HttpRequest) -> HttpResponse:
    """``django.contrib.auth.logout``."""
    logout(request)
    return HttpResponse("ok")


def whoami(request: HttpRequest) -> HttpResponse:
    """The authenticated user's name, or an empty body."""
    return HttpResponse(request.user.get_username() if request.user.is_authenticated else "")


def flash(request: HttpRequest) -> HttpResponse:
    """Queue a message (messages' session storage)."""
    messages.info(request, request.GET.get("m", "hello"))
    return HttpResponse("ok")


def show_messages(request: HttpRequest) -> HttpResponse:
    """The queued messages, consumed."""
    return JsonResponse([str(m) for m in messages.get_messages(request)], safe=False)


async def awrite(request: HttpRequest) -> HttpResponse:
    """An async view: set ``v`` with the session's async API."""
    await request.session.aset("value", request.GET.get("v", "x"))
    return HttpResponse("ok")


async def aread(request: HttpRequest) -> HttpResponse:
    """An async view: the session's ``value``."""
    return HttpResponse(str(await request.session.aget("value")))


urlpatterns = [
    path("write", write),
    path("read", read),
    path("untouched", untouched),
    path("login", sign_in),
    path("logout", sign_out),
    path("whoami", whoami),
    path("flash", flash),
    path("messages", show_messages),
    path("awrite", awrite),
    path("aread", aread),
]
