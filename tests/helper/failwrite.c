int failwrite_placeholder;
