// Lets ES modules `import ... from 'react'` use the UMD build the page loaded (window.React).
const React = window.React;
export default React;
export const { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState,
  useSyncExternalStore } = React;
