from django.urls import path

from tutor.accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("guest/", views.guest, name="guest"),
]
