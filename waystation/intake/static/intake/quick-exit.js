(function () {
"use strict";
var link = document.getElementById("quick-exit");
var form = document.getElementById("quick-exit-form");
if (!link || !form) { return; }
function leave(event) {
if (event) { event.preventDefault(); }
try {
navigator.sendBeacon(form.action, new FormData(form));
} catch (ignored) { }
document.body.innerHTML = "";
window.location.replace(link.href);
}
link.addEventListener("click", leave);
var presses = [];
document.addEventListener("keydown", function (event) {
if (event.key !== "Shift") { return; }
var now = Date.now();
presses = presses.filter(function (t) { return now - t < 1200; });
presses.push(now);
if (presses.length >= 3) { leave(); }
});
}());
