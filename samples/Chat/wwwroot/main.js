'use strict';

(function () {
  // After this long without a key stroke, the others stop seeing "… is typing".
  const TYPING_TIMEOUT_MS = 2000;

  const byId = id => document.getElementById(id);
  const loginForm = byId('login');
  const nicknameInput = byId('nickname');
  const loginRoomInput = byId('login-room');
  const knownRooms = byId('known-rooms');
  const chat = byId('chat');
  const roomList = byId('rooms');
  const roomForm = byId('room-form');
  const roomNameInput = byId('room-name');
  const roomTitle = byId('room-title');
  const participants = byId('participants');
  const userList = byId('users');
  const messages = byId('messages');
  const typingLine = byId('typing');
  const sendForm = byId('send');
  const messageInput = byId('message');

  const socket = io();

  let username = null;
  let room = roomName(location.hash.slice(1));
  let typing = false;
  let typingTimer = null;
  const typists = new Set();

  if (room) {
    loginRoomInput.value = room;
  }

  /** Room names as the server keeps them: lower case letters, digits, '-' and '_'. */
  function roomName(text) {
    let decoded = String(text || '');
    try {
      decoded = decodeURIComponent(decoded);
    } catch (e) {
      // Not percent-encoded after all: use it as it is.
    }
    return decoded.trim().toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 32);
  }

  function people(n) {
    return n === 1 ? '1 participant' : n + ' participants';
  }

  /** Adds a line to the conversation; text only, never HTML. */
  function addLine(kind, text, from) {
    const item = document.createElement('li');
    item.className = kind;
    if (from) {
      const name = document.createElement('span');
      name.className = 'username';
      name.textContent = from;
      item.append(name, ' ');
    }
    const body = document.createElement('span');
    body.className = 'body';
    body.textContent = text;
    item.append(body);
    messages.append(item);
    messages.scrollTop = messages.scrollHeight;
  }

  function showUsers(state) {
    participants.textContent = people(state.numUsers);
    userList.replaceChildren(...state.users.map(name => {
      const item = document.createElement('li');
      item.textContent = name;
      if (name === username) {
        item.className = 'me';
      }
      return item;
    }));
  }

  function showRooms(list) {
    roomList.replaceChildren(...list.map(entry => {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = '#' + entry.name;
      link.textContent = '#' + entry.name;
      if (entry.name === room) {
        link.className = 'current';
      }
      const count = document.createElement('span');
      count.className = 'count';
      count.textContent = String(entry.numUsers);
      item.append(link, ' ', count);
      return item;
    }));
    knownRooms.replaceChildren(...list.map(entry => {
      const option = document.createElement('option');
      option.value = entry.name;
      return option;
    }));
  }

  function showTyping() {
    const names = Array.from(typists);
    typingLine.textContent = names.length === 0 ? ''
      : names.length === 1 ? names[0] + ' is typing…'
      : names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing…';
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typing) {
      typing = false;
      socket.emit('stop typing');
    }
  }

  loginForm.addEventListener('submit', event => {
    event.preventDefault();
    const name = nicknameInput.value.trim();
    if (!name) {
      return;
    }
    username = name;
    room = roomName(loginRoomInput.value) || room || 'general';
    socket.emit('add user', username, room);
  });

  sendForm.addEventListener('submit', event => {
    event.preventDefault();
    const text = messageInput.value;
    if (!text.trim()) {
      return;
    }
    socket.emit('new message', text);
    addLine('message mine', text, username);
    messageInput.value = '';
    stopTyping();
  });

  messageInput.addEventListener('input', () => {
    if (!typing) {
      typing = true;
      socket.emit('typing');
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_TIMEOUT_MS);
  });

  roomForm.addEventListener('submit', event => {
    event.preventDefault();
    const name = roomName(roomNameInput.value);
    roomNameInput.value = '';
    if (name) {
      location.hash = '#' + name;
    }
  });

  // The room is the page's #fragment: the room links, the form above and the back button all go through here.
  window.addEventListener('hashchange', () => {
    const name = roomName(location.hash.slice(1));
    if (username && name && name !== room) {
      stopTyping();
      socket.emit('join room', name);
    }
  });

  socket.on('connect', () => {
    // After a reconnection the server has forgotten us: log in again, into the same room.
    if (username) {
      socket.emit('add user', username, room);
    }
  });

  socket.on('disconnect', () => {
    if (username) {
      addLine('log', 'Disconnected; reconnecting…');
    }
  });

  socket.on('login', state => {
    room = state.room;
    if (location.hash.slice(1) !== room) {
      history.replaceState(null, '', '#' + room);
    }
    loginForm.hidden = true;
    chat.hidden = false;
    document.title = '#' + room + ' · Chat';
    roomTitle.textContent = room;
    typists.clear();
    showTyping();
    messages.replaceChildren();
    addLine('log', 'Welcome to #' + room + ', ' + username + '. ' +
      (state.numUsers === 1 ? 'You are the only one here.' : 'There are ' + people(state.numUsers) + '.'));
    showUsers(state);
    for (const link of roomList.querySelectorAll('a')) {
      link.classList.toggle('current', link.getAttribute('href') === '#' + room);
    }
    messageInput.focus();
  });

  socket.on('new message', data => {
    typists.delete(data.username);
    showTyping();
    addLine('message', data.message, data.username);
  });

  socket.on('user joined', data => {
    addLine('log', data.username + ' joined (' + people(data.numUsers) + ')');
  });

  socket.on('user left', data => {
    typists.delete(data.username);
    showTyping();
    addLine('log', data.username + ' left (' + people(data.numUsers) + ')');
  });

  socket.on('user list', state => {
    if (state.room === room) {
      showUsers(state);
    }
  });

  socket.on('room list', showRooms);

  socket.on('typing', data => {
    typists.add(data.username);
    showTyping();
  });

  socket.on('stop typing', data => {
    typists.delete(data.username);
    showTyping();
  });
})();
