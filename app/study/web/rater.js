/* The web rater of a reliability study: the desktop rater's rules in a browser, with no server.
 *
 * study.js (written by rate-package --web) says which faces each rater slot judges, in which
 * order, under opaque ids; nothing in it or here says what a face is. Every vote is written to
 * localStorage before the next face appears, so a reload or a closed tab resumes where the rater
 * was. At the end the rater downloads one votes file with a SHA-256 checksum (computed here, since
 * crypto.subtle is missing on plain-http hosts) that rate-merge verifies. The attention checks are
 * not scored here: a page that knew which faces are catch or repeated faces would tell anyone who
 * reads this script. The file says so, and rate-merge scores them against the study.
 */
"use strict";
(function () {
  const study = window.FACE_STUDY;
  const FILE_FORMAT = "face-manifold-explorer web votes";
  const FILE_VERSION = 1;
  const ATTENTION_CHECKS =
    "not scored in the browser, which is not told which faces are checks: rate-merge and rate-report " +
    "score the catch and repeated faces of these votes against the study";

  // ---- SHA-256 (FIPS 180-4) over the UTF-8 bytes of a text --------------------------------------
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function rotate(x, n) {
    return (x >>> n) | (x << (32 - n));
  }

  function sha256Hex(text) {
    const bytes = new TextEncoder().encode(text);
    const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    const view = new DataView(padded.buffer);
    const bits = bytes.length * 8;
    view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padded.length - 4, bits >>> 0);
    const hash = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    const w = new Uint32Array(64);
    for (let block = 0; block < padded.length; block += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, h] = hash;
      for (let i = 0; i < 64; i++) {
        const t1 = (h + (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const t2 = ((rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      [a, b, c, d, e, f, g, h].forEach((value, i) => { hash[i] += value; });
    }
    return Array.from(hash, (word) => word.toString(16).padStart(8, "0")).join("");
  }

  // ---- state ---------------------------------------------------------------------------------------
  const element = (id) => document.getElementById(id);
  const isoNow = () => new Date().toISOString();
  let slot = null; // "rater-07"
  let order = []; // this slot's faces (opaque ids), in its own order
  let record = null; // what localStorage holds for this slot: session, votes (never deleted), pauses
  let lastSaved = null; // the text last written, to notice another tab writing the same slot
  let current = null; // the face on screen
  let ready = false; // its picture is on screen, so a vote is a judgement of it
  let paused = false;
  let shownAt = "";
  let shownClock = 0;
  let pausedSince = 0;
  let pausedTotal = 0;
  let angle = study.front;
  let page = "start";

  function storageKey() {
    return "face-study:" + study.fingerprint + ":" + slot;
  }

  function randomHex(bytes) {
    const values = new Uint8Array(bytes);
    crypto.getRandomValues(values);
    return Array.from(values, (v) => v.toString(16).padStart(2, "0")).join("");
  }

  function storageWorks() {
    try {
      localStorage.setItem("face-study:probe", "1");
      localStorage.removeItem("face-study:probe");
      return true;
    } catch (failure) {
      return false;
    }
  }

  function readRecord() {
    const text = localStorage.getItem(storageKey());
    lastSaved = text;
    if (text === null) {
      return { session: randomHex(16), started_at: isoNow(), votes: [], pauses: 0, tab_hidden: 0 };
    }
    const stored = JSON.parse(text);
    if (!stored || !Array.isArray(stored.votes)) throw new Error("the saved votes of this slot are unreadable");
    return stored;
  }

  /* Apply ``change`` to the record and write it before anything else happens. False (and nothing
     changed) when the browser refused the write or another tab wrote this slot in the meantime. */
  function persist(change) {
    let stored;
    try {
      stored = localStorage.getItem(storageKey());
    } catch (failure) {
      stored = lastSaved;
    }
    if (stored !== lastSaved) {
      record = readRecord();
      showNote("This rater number is open in another tab too; its votes were loaded here.");
      showFace(nextFace());
      return false;
    }
    const before = JSON.stringify(record);
    change(record);
    const text = JSON.stringify(record);
    try {
      localStorage.setItem(storageKey(), text);
      if (localStorage.getItem(storageKey()) !== text) throw new Error("read back differs");
    } catch (failure) {
      record = JSON.parse(before);
      showProblem("Your browser did not save the last action (" + failure.message + "); it was not recorded. " +
        "Free some space or use another browser, then try again.");
      return false;
    }
    lastSaved = text;
    return true;
  }

  function standingFaces() {
    return new Set(record.votes.filter((v) => v.undone_at === null).map((v) => v.face));
  }

  function nextFace() {
    const standing = standingFaces();
    return order.find((face) => !standing.has(face)) || null;
  }

  function pictureUrl(face, index) {
    return "faces/" + face + "-" + index + "." + study.image_type;
  }

  // ---- pages ---------------------------------------------------------------------------------------
  function showPage(name) {
    page = name;
    for (const other of ["start", "rating", "finished"]) element(other + "-page").hidden = other !== name;
  }

  function showProblem(text) {
    element("problem").textContent = text;
    element("problem").hidden = !text;
  }

  let noteTimer = 0;
  function showNote(text) {
    element("note").textContent = text;
    clearTimeout(noteTimer);
    noteTimer = setTimeout(() => { element("note").textContent = ""; }, 4000);
  }

  function slotFrom(text) {
    const value = String(text || "").trim();
    if (/^\d+$/.test(value)) return study.slots[Number(value) - 1] || null;
    return study.slots.includes(value) ? value : null;
  }

  function setUpStartPage() {
    const unsure = study.allow_unsure ? ", U or ↓ if unsure" : "";
    element("instructions").textContent = study.instructions;
    element("how-to").textContent =
      "You will see " + study.face_count + " faces, one at a time. Press A or → to accept, R or ← to reject" +
      unsure + ". Ctrl+Z (or Backspace) undoes your last vote, P pauses. F and S show the front and the side; " +
      "drag the picture (or press Shift+← / Shift+→) to turn the face. Every vote is saved in this browser at " +
      "once: you can close the page and continue later in the same browser. At the end you download one votes " +
      "file for the researcher.";
    element("unsure-button").hidden = !study.allow_unsure;
    const fromAddress = new URLSearchParams(location.search).get("rater");
    const chosen = slotFrom(fromAddress);
    if (!storageWorks()) {
      element("start-problem").textContent =
        "This browser does not let the page save your votes (a private window, or storage switched off). " +
        "Open the page in a normal window, or in another browser.";
      element("start-problem").hidden = false;
      element("start-button").disabled = true;
    }
    if (chosen) {
      slot = chosen;
      element("slot-fixed").textContent = "Rater number " + (study.slots.indexOf(chosen) + 1) + ".";
      element("slot-fixed").hidden = false;
      if (element("start-button").disabled) return;
      record = readRecord();
      if (record.votes.length) {
        begin(); // a reload or a reopened tab: straight back to where the rater was
        return;
      }
    } else {
      element("slot-range").textContent = "1–" + study.slots.length;
      element("slot-choice").hidden = false;
      if (fromAddress !== null) {
        element("start-problem").textContent =
          "This link names rater " + fromAddress + ", which this study does not have; enter your rater number.";
        element("start-problem").hidden = false;
      }
      element("slot-field").focus();
    }
    showPage("start");
  }

  function start() {
    if (element("start-button").disabled) return;
    if (!slot) {
      const chosen = slotFrom(element("slot-field").value);
      if (!chosen) {
        element("start-problem").textContent = "Enter a rater number from 1 to " + study.slots.length + ".";
        element("start-problem").hidden = false;
        return;
      }
      slot = chosen;
      const address = new URL(location.href);
      address.searchParams.set("rater", String(study.slots.indexOf(chosen) + 1));
      history.replaceState(null, "", address.href); // a reload now resumes this slot
      record = readRecord();
    }
    element("slot-field").blur();
    begin();
  }

  function begin() {
    order = study.orders[study.slots.indexOf(slot)].map((index) => study.faces[index]);
    element("slot-label").textContent = "rater " + (study.slots.indexOf(slot) + 1);
    window.addEventListener("storage", (event) => {
      if (event.key === storageKey() && event.newValue !== lastSaved) {
        record = readRecord();
        showNote("Votes cast in another tab were loaded.");
        showFace(nextFace());
      }
    });
    showFace(nextFace());
  }

  // ---- the face on screen ----------------------------------------------------------------------------
  let showing = 0; // which showing a picture's load event belongs to
  function showFace(face) {
    current = face;
    ready = false;
    showing += 1;
    if (face === null) {
      finish();
      return;
    }
    showPage("rating");
    const standing = standingFaces().size;
    element("progress-label").textContent = "Face " + (standing + 1) + " of " + order.length;
    element("progress-bar").max = order.length;
    element("progress-bar").value = standing;
    const thisShowing = showing;
    const picture = element("face");
    picture.onload = () => {
      if (thisShowing !== showing || ready) return;
      ready = true; // timing starts when the face can be seen
      shownAt = isoNow();
      shownClock = performance.now();
      pausedTotal = 0;
      pausedSince = shownClock;
      element("stage").dataset.shown = String(thisShowing); // for scripted raters: this showing can be judged
    };
    setAngle(study.front);
    if (picture.complete && picture.naturalWidth > 0) picture.onload(); // the same picture: no new load event
    for (let index = 0; index < study.yaws.length; index++) new Image().src = pictureUrl(face, index);
    const following = order.find((other) => other !== face && !standingFaces().has(other));
    if (following) new Image().src = pictureUrl(following, study.front);
  }

  function setAngle(index) {
    angle = Math.max(0, Math.min(study.yaws.length - 1, index));
    const url = current === null ? null : pictureUrl(current, angle);
    if (url !== null && element("face").getAttribute("src") !== url) element("face").src = url;
    element("turn-thumb").style.left = (100 * angle) / (study.yaws.length - 1) + "%";
  }

  function turn(steps) {
    if (page === "rating" && !paused) setAngle(angle + steps);
  }

  function decisionMs() {
    const now = performance.now();
    const pausedNow = pausedTotal + (paused ? now - pausedSince : 0);
    return Math.max(0, Math.round(now - shownClock - pausedNow));
  }

  function vote(choice) {
    if (page !== "rating" || !ready || paused || current === null) return;
    if (choice === "unsure" && !study.allow_unsure) return;
    const face = current;
    const cast = {
      face: face,
      vote: choice,
      shown_at: shownAt,
      voted_at: isoNow(),
      decision_ms: decisionMs(),
    };
    const saved = persist((r) => {
      r.votes.push({ n: r.votes.length + 1, ...cast, undone_at: null });
    });
    if (saved) showFace(nextFace());
  }

  function undo() {
    if (paused || (page !== "rating" && page !== "finished")) return;
    let last = null;
    for (let i = record.votes.length - 1; i >= 0 && last === null; i--) {
      if (record.votes[i].undone_at === null) last = i;
    }
    if (last === null) {
      showNote("Nothing to undo.");
      return;
    }
    const taken = record.votes[last];
    if (!persist((r) => { r.votes[last].undone_at = isoNow(); })) return;
    showFace(taken.face);
    showNote("Took back your '" + taken.vote + "' vote: judge this face again.");
  }

  function setPaused(pause, becauseHidden) {
    if (page !== "rating" || pause === paused) return;
    if (pause) {
      if (!persist((r) => { r.pauses += 1; if (becauseHidden) r.tab_hidden += 1; })) return;
      paused = true;
      pausedSince = performance.now();
    } else {
      paused = false;
      pausedTotal += performance.now() - pausedSince;
    }
    element("stage").classList.toggle("paused", paused); // the face is hidden: a pause is not thinking time
    element("paused-note").hidden = !paused;
    element("pause-button").textContent = paused ? "Continue (P)" : "Pause (P)";
    for (const id of ["accept-button", "reject-button", "unsure-button", "undo-button", "front-button", "side-button"]) {
      element(id).disabled = paused;
    }
  }

  // ---- the end: the votes file and the completion code ----------------------------------------------
  function finish() {
    showPage("finished");
    element("finished-title").textContent = "All " + order.length + " faces judged — thank you!";
    element("completion").hidden = true;
  }

  function votesFile() {
    const body = {
      format: FILE_FORMAT,
      version: FILE_VERSION,
      made_by: study.made_by,
      fingerprint: study.fingerprint,
      web_package: study.web_package,
      slot: slot,
      session: record.session,
      face_count: order.length,
      complete: standingFaces().size === order.length,
      started_at: record.started_at,
      saved_at: isoNow(),
      pauses: record.pauses,
      tab_hidden: record.tab_hidden,
      attention_checks: ATTENTION_CHECKS,
      votes: record.votes.map((v) => ({
        n: v.n, face: v.face, vote: v.vote, shown_at: v.shown_at, voted_at: v.voted_at,
        decision_ms: v.decision_ms, undone_at: v.undone_at,
      })),
    };
    const checksum = sha256Hex(JSON.stringify(body));
    return { text: JSON.stringify({ ...body, checksum: checksum }, null, 1), checksum: checksum };
  }

  function download() {
    const file = votesFile();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([file.text], { type: "application/json" }));
    link.download = "votes-" + slot + "-" + study.fingerprint.slice(0, 8) + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    const code = (file.checksum.slice(0, 4) + "-" + file.checksum.slice(4, 8)).toUpperCase();
    element("completion-code").textContent = code;
    element("completion").hidden = false;
    if (study.completion_url) {
      element("completion-link").href = study.completion_url
        .replaceAll("{code}", encodeURIComponent(code))
        .replaceAll("{slot}", encodeURIComponent(slot));
      element("completion-link-line").hidden = false;
    }
  }

  // ---- input: keys as in the desktop rater, buttons that never take the focus, drag to turn --------
  document.addEventListener("keydown", (event) => {
    if (page === "start") {
      if (event.key === "Enter") {
        event.preventDefault();
        start();
      }
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const command = event.ctrlKey || event.metaKey;
    let action = null;
    if (command && key === "z") action = undo;
    else if (command || event.altKey) return; // the browser's own shortcuts: Ctrl+R reloads, it does not reject
    else if (key === "Backspace") action = undo;
    else if (event.shiftKey && key === "ArrowLeft") action = () => turn(-1);
    else if (event.shiftKey && key === "ArrowRight") action = () => turn(1);
    else if (key === "a" || key === "ArrowRight") action = () => vote("accept");
    else if (key === "r" || key === "ArrowLeft") action = () => vote("reject");
    else if (key === "u" || key === "ArrowDown") action = () => vote("unsure");
    else if (key === "p") action = () => setPaused(!paused, false);
    else if (key === "f") action = () => { if (!paused) setAngle(study.front); };
    else if (key === "s") action = () => { if (!paused) setAngle(study.side); };
    if (action === null) return;
    event.preventDefault();
    const turning = event.shiftKey && (key === "ArrowLeft" || key === "ArrowRight");
    if (event.repeat && !turning) return; // a key held down casts one vote, not one per repeat
    action();
  });

  function onClick(id, action) {
    const button = element(id);
    button.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus off buttons
    button.addEventListener("click", (event) => {
      event.currentTarget.blur();
      action();
    });
  }
  onClick("start-button", start);
  onClick("accept-button", () => vote("accept"));
  onClick("reject-button", () => vote("reject"));
  onClick("unsure-button", () => vote("unsure"));
  onClick("undo-button", undo);
  onClick("finished-undo-button", undo);
  onClick("pause-button", () => setPaused(!paused, false));
  onClick("front-button", () => setAngle(study.front));
  onClick("side-button", () => setAngle(study.side));
  onClick("download-button", download);

  function dragToTurn(target, anglesAcross) {
    let start = null;
    target.addEventListener("pointerdown", (event) => {
      if (paused) return;
      target.setPointerCapture(event.pointerId);
      start = { x: event.clientX, angle: angle };
      if (target.id === "turn-track") turnTrackTo(event);
      event.preventDefault();
    });
    target.addEventListener("pointermove", (event) => {
      if (start === null) return;
      if (target.id === "turn-track") turnTrackTo(event);
      else setAngle(start.angle + Math.round(((event.clientX - start.x) / target.clientWidth) * anglesAcross));
    });
    const stop = () => { start = null; };
    target.addEventListener("pointerup", stop);
    target.addEventListener("pointercancel", stop);
  }
  function turnTrackTo(event) {
    const box = element("turn-track").getBoundingClientRect();
    setAngle(Math.round(((event.clientX - box.left) / box.width) * (study.yaws.length - 1)));
  }
  dragToTurn(element("stage"), study.yaws.length - 1);
  dragToTurn(element("turn-track"), study.yaws.length - 1);

  document.addEventListener("visibilitychange", () => {
    if (document.hidden && page === "rating" && !paused) setPaused(true, true); // away from the page: not judging
  });

  try {
    setUpStartPage();
  } catch (failure) {
    showProblem("The study could not start: " + failure.message);
  }
})();
