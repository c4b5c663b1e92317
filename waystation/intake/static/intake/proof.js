(function () {
"use strict";
var form = document.getElementById("request-form");
if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
var token = form.elements.form_token.value;
var bits = parseInt(form.getAttribute("data-proof-bits"), 10);
var field = form.elements.proof;
var encoder = new TextEncoder();
function leadingZeros(bytes) {
var count = 0;
for (var i = 0; i < bytes.length; i += 1) {
if (bytes[i] === 0) { count += 8; continue; }
for (var b = 7; b >= 0; b -= 1) {
if ((bytes[i] >> b) & 1) { return count; }
count += 1;
}
}
return count;
}
function search(nonce) {
var batch = [];
for (var i = 0; i < 64; i += 1) {
batch.push(window.crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + (nonce + i))));
}
Promise.all(batch).then(function (digests) {
for (var j = 0; j < digests.length; j += 1) {
if (leadingZeros(new Uint8Array(digests[j])) >= bits) {
field.value = String(nonce + j);
return;
}
}
window.setTimeout(function () { search(nonce + 64); }, 0);
});
}
search(0);
}());
