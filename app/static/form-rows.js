// Repeating rows of JSON Schema array fields (forms/macros.html): "Add item" clones the row
// template and "Remove" drops a row. Without JavaScript the form still works: the add button
// submits the form, which comes back with one more row.
(function () {
  if (window.ticketflowRows) return;
  window.ticketflowRows = true;
  function renumber(html, path, index) {
    var dashed = 'f-' + path.split('.').join('-');
    return html.split(path + '.__new__').join(path + '.' + index)
               .split(dashed + '-__new__').join(dashed + '-' + index);
  }
  function wire(row) {
    var remove = row.querySelector(':scope > .remove-row');
    if (!remove) return;
    remove.hidden = false;
    remove.addEventListener('click', function () { row.remove(); });
  }
  function setup() {
    document.querySelectorAll('fieldset[data-array]').forEach(function (fieldset) {
      fieldset.querySelectorAll(':scope > .array-rows > .array-item').forEach(wire);
      var button = fieldset.querySelector(':scope > .add-row');
      var template = fieldset.querySelector(':scope > template.array-template');
      if (!button || !template) return;
      button.addEventListener('click', function (event) {
        event.preventDefault();
        var rows = fieldset.querySelector(':scope > .array-rows');
        var next = 0;
        rows.querySelectorAll(':scope > .array-item').forEach(function (item) {
          next = Math.max(next, parseInt(item.dataset.index, 10) + 1);
        });
        var holder = document.createElement('div');
        holder.innerHTML = renumber(template.innerHTML, fieldset.dataset.array, next);
        holder.querySelectorAll('.array-item-title').forEach(function (title) {
          title.textContent = title.textContent.replace(/\s*$/, '') + ' ' + (next + 1);
        });
        var row = holder.firstElementChild;
        row.dataset.index = String(next);
        rows.appendChild(row);
        wire(row);
        var first = row.querySelector('input, select, textarea');
        if (first) first.focus();
      });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup);
  else setup();
})();
