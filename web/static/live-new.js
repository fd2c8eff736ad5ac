/* stembox live sessions: the form that makes a session (/live/new). It
 * works without this script; with it, "add a question" adds a block and a
 * block shows only the fields of its kind. Plain ES5. */
(function () {
  'use strict';

  function setupNewForm(form) {
    var blocks = form.querySelector('.live-blocks');
    function showFields(block) {
      var kind = block.querySelector('.live-kind').value;
      var parts = block.querySelectorAll('[class*="for-"]');
      for (var i = 0; i < parts.length; i++) {
        parts[i].hidden = (' ' + parts[i].className + ' ').indexOf(' for-' + kind + ' ') < 0;
      }
    }
    function wire(block) {
      var sel = block.querySelector('.live-kind');
      sel.addEventListener('change', function () { showFields(block); });
      showFields(block);
    }
    var all = blocks.querySelectorAll('.live-block');
    for (var i = 0; i < all.length; i++) { wire(all[i]); }
    var add = form.querySelector('.live-add');
    add.hidden = false;
    add.addEventListener('click', function () {
      var list = blocks.querySelectorAll('.live-block');
      if (list.length >= 100) { return; }
      var last = list[list.length - 1], n = list.length + 1;
      var copy = last.cloneNode(true);
      copy.setAttribute('data-n', n);
      var legend = copy.querySelector('legend');
      legend.textContent = legend.textContent.replace(/\d+/, String(n));
      var fields = copy.querySelectorAll('[name]');
      for (var j = 0; j < fields.length; j++) {
        fields[j].name = fields[j].name.replace(/^q\d+_/, 'q' + n + '_');
        if (fields[j].tagName === 'TEXTAREA' || (fields[j].tagName === 'INPUT' && fields[j].type === 'text')) { fields[j].value = ''; }
      }
      blocks.appendChild(copy);
      wire(copy);
      copy.querySelector('textarea').focus();
    });
  }

  function start() {
    var form = document.getElementById('live-new');
    if (form) { setupNewForm(form); }
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
