// The login page: posts the credentials, which sets the session cookies, then returns to the
// page the user came from (only a path of this site, never another origin). Where the server
// allows sign-up, a second form creates a viewer account and logs it in.

import { describeError } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const signupForm = document.getElementById("signup-form");
const signupError = document.getElementById("signup-error");
const signupSwitch = document.querySelector('[data-testid="signup-switch"]');
const signupToggle = document.getElementById("signup-toggle");
const loginToggle = document.getElementById("login-toggle");

function nextPage() {
  const wanted = new URLSearchParams(window.location.search).get("next") || "./";
  return wanted.startsWith("/") || wanted.startsWith("./") ? wanted : "./";
}

async function postJson(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
}

/** The API's message for a refused request, and the fields it names. */
async function refusal(response, what) {
  if (response.status === 429) return { message: "Too many failed attempts; wait a few minutes.", fields: [] };
  const payload = await response.json().catch(() => ({}));
  const { message, fields } = describeError(response.status, payload);
  return { message: message || `${what} failed (HTTP ${response.status}).`, fields };
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
    response = await postJson("./auth/login", body);
  } catch {
    error.textContent = "The server cannot be reached.";
    return;
  }
  if (response.ok) {
    window.location.assign(nextPage());
    return;
  }
  error.textContent = (await refusal(response, "Login")).message;
});

function showSignup(on) {
  form.hidden = on;
  signupForm.hidden = !on;
  signupSwitch.hidden = on;
  signupToggle.setAttribute("aria-expanded", String(on));
  (on ? signupForm.querySelector("h2") : form.username).focus();
}

function markInvalid(names) {
  for (const input of signupForm.querySelectorAll("input")) {
    input.setAttribute("aria-invalid", String(names.includes(input.name)));
  }
}

function refuse(text, names) {
  signupError.textContent = text;
  markInvalid(names);
}

signupForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  refuse("", []);
  const username = signupForm.username.value.trim();
  const password = signupForm.password.value;
  if (username.length < 2) return refuse("User name: at least 2 characters.", ["username"]);
  if (password.length < 8) return refuse("Password: at least 8 characters.", ["password"]);
  if (password !== signupForm.confirm.value) {
    return refuse("Repeat the password: the two passwords differ.", ["confirm"]);
  }
  const submit = signupForm.querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    const created = await postJson("./auth/register", { username, password });
    if (!created.ok) {
      const { message, fields } = await refusal(created, "Sign-up");
      return refuse(message, fields);
    }
    // The account exists: log straight in with it.
    const login = await postJson("./auth/login", { username, password });
    if (!login.ok) return refuse((await refusal(login, "Login")).message, []);
    window.location.assign(nextPage());
  } catch {
    refuse("The server cannot be reached.", []);
  } finally {
    submit.disabled = false;
  }
});

// Editing a field the server or the checks refused clears its mark.
signupForm.addEventListener("input", (event) => {
  if (event.target.getAttribute("aria-invalid") === "true") {
    event.target.setAttribute("aria-invalid", "false");
    signupError.textContent = "";
  }
});

signupToggle.addEventListener("click", () => showSignup(true));
loginToggle.addEventListener("click", () => showSignup(false));

/** Offer sign-up only where the server allows it. */
async function offerSignup() {
  try {
    const response = await fetch("./auth/config", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const config = await response.json();
    signupSwitch.hidden = !config.allow_signup;
    if (config.allow_signup && window.location.hash === "#signup") showSignup(true);
  } catch {
    // Without the answer the page stays a plain login form.
  }
}

offerSignup();
