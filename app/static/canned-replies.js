// Canned replies in the "Write to the customer" box (inbox/_write.html): the select lists the
// replies already rendered for this ticket (data-text); "Insert" puts the chosen one at the cursor.
(function () {
  function setup() {
    document.querySelectorAll('[data-canned-replies]').forEach(function (box) {
      var select = box.querySelector('select');
      var button = box.querySelector('button');
      var target = document.getElementById(box.getAttribute('data-canned-replies'));
      if (!select || !button || !target) return;
      button.hidden = false;
      button.addEventListener('click', function (event) {
        event.preventDefault();
        var option = select.options[select.selectedIndex];
        if (!option || !option.value) return;
        var text = option.getAttribute('data-text') || '';
        var start = target.selectionStart || 0;
        var end = target.selectionEnd || 0;
        var before = target.value.slice(0, start);
        var after = target.value.slice(end);
        var joint = before && !/\n$/.test(before) ? '\n' : '';
        target.value = (before + joint + text + after).slice(0, target.maxLength > 0 ? target.maxLength : undefined);
        var caret = (before + joint + text).length;
        target.focus();
        target.setSelectionRange(caret, caret);
      });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
  else setup();
})();
