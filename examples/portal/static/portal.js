/* Inside a frame (the team page frames our sync pages), drop the portal's header: the page
   around the frame has it. The server already does so when the browser sends Sec-Fetch-Dest
   (https, localhost); over plain http it does not, so the page finds out here. */
if (window.top !== window.self) {
  document.documentElement.classList.add("portal-framed");
}
