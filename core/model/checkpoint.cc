// placeholder: implemented by the checkpoint work
