/** This program's version, as in package.json (a unit test keeps them equal). */
export const programVersion = '0.1.0';
