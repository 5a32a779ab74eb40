// The login page: posts the credentials, which sets the session cookies, then returns to the
// page the user came from (only a path of this site, never another origin).

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function nextPage() {
  const wanted = new URLSearchParams(window.location.search).get("next") || "./";
  return wanted.startsWith("/") || wanted.startsWith("./") ? wanted : "./";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const body = {
    username: form.username.value.trim(),
    password: form.password.value,
  };
  let response;
  try {
    response = await fetch("./auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    error.textContent = "The server cannot be reached.";
    return;
  }
  if (response.ok) {
    window.location.assign(nextPage());
    return;
  }
  const payload = await response.json().catch(() => ({}));
  error.textContent =
    response.status === 429
      ? "Too many failed attempts; wait a few minutes."
      : payload.detail || `Login failed (HTTP ${response.status}).`;
});
